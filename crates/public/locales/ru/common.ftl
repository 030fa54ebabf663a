exercise-banner = УЧЕНИЯ — время условное, это не настоящий коридор
corridors-count = { $count ->
    [one] { $count } коридор
    [few] { $count } коридора
   *[many] { $count } коридоров
}
public-reason-shelling = обстрелы вблизи маршрута
public-reason-mines = мины вблизи маршрута
public-reason-road-damage = дорога повреждена или заблокирована
public-reason-other = другие причины
