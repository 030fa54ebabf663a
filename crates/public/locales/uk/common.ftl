exercise-banner = НАВЧАННЯ — змодельований час, це не справжній коридор
status-open = Відкрито зараз
status-upcoming = Відкриється о { $start }
status-suspended = Призупинено
status-pending = Не підтверджено: умови змінюються
status-closed = Закрито
status-cancelled = Скасовано
corridors-count = { $count ->
    [one] { $count } коридор
    [few] { $count } коридори
   *[many] { $count } коридорів
}
