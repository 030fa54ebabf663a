exercise-banner = УЧЕНИЯ — смоделированное время, это не настоящий коридор
status-open = Открыт сейчас
status-upcoming = Откроется в { $start }
status-suspended = Приостановлен
status-pending = Не подтверждён: условия меняются
status-closed = Закрыт
status-cancelled = Отменён
corridors-count = { $count ->
    [one] { $count } коридор
    [few] { $count } коридора
   *[many] { $count } коридоров
}
