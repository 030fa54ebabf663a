exercise-banner = НАВЧАННЯ — змодельований час, це не справжній коридор
corridors-count = { $count ->
    [one] { $count } коридор
    [few] { $count } коридори
   *[many] { $count } коридорів
}
public-reason-shelling = обстріли поблизу маршруту
public-reason-mines = міни поблизу маршруту
public-reason-road-damage = дорогу пошкоджено або заблоковано
public-reason-other = інші причини
