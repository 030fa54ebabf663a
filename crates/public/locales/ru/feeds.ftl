# Строки только для лент: оповещения CAP, лента Atom. Подписанный текст (названия, инструкции,
# причины) передаётся как аргументы и здесь не переводится.
feed-event = Гуманитарный коридор
feed-exercise-headline = УЧЕНИЯ: { $headline }
feed-exercise-note = Учения: смоделированное время, это не настоящий коридор. Не действуйте по этому сообщению.
feed-a-party = одна из сторон

## Заголовки ($corridor; $start и $end — по местному времени пункта отправления)
feed-headline-agreed = Коридор { $corridor } согласован: откроется { $start }
feed-headline-new-terms = Коридор { $corridor }: согласовано новое время, откроется { $start }
feed-headline-amending = Коридор { $corridor }: условия меняются, не полагайтесь на него
feed-headline-opened = Коридор { $corridor } открыт до { $end }
feed-headline-resumed = Коридор { $corridor } снова открыт до { $end }
feed-headline-suspended = Коридор { $corridor } приостановлен
feed-headline-closed = Коридор { $corridor } закрыт
feed-headline-withdrawn = Коридор { $corridor }: открытие отменено
feed-headline-cancelled = Коридор { $corridor }: открытие отменено
feed-headline-expired = Коридор { $corridor }: открытие отменено, новые условия не согласованы

## Предложения о состоянии ($party — действовавшая сторона)
feed-status-agreed = Все стороны согласовали время и условия коридора. Он ещё не открыт.
feed-status-new-terms = Все стороны согласовали изменённые условия. Коридор ещё не открыт.
feed-status-amending = Стороны меняют согласованные условия, а новые ещё не согласованы: не полагайтесь на это время.
feed-status-opened = Коридор открыт: действует режим тишины, согласованный всеми сторонами.
feed-status-resumed = Коридор снова открыт: все стороны возобновили режим тишины.
feed-status-suspended = Коридор приостановлен по заявлению стороны: { $party }. Он остаётся закрытым, пока все стороны не возобновят режим тишины.
feed-status-closed = Согласованное время истекло, коридор закрыт.
feed-status-withdrawn = Открытие отменено: сторона отозвала согласие до начала ({ $party }).
feed-status-cancelled = Открытие отменено тем, кто его предложил.
feed-status-expired = Открытие отменено: новые условия не согласованы до начала.

feed-window = Согласованное время: { $times }.
feed-reason = Указанная причина: { $reason }
feed-bring = Что взять с собой: { $text }
feed-gather = Где собираться: { $text }
feed-if-suspended = Если коридор приостановлен: { $text }
feed-area = { $corridor }: маршрут и { $buffer } м по обе стороны от него
feed-atom-title = Гуманитарные коридоры: оповещения
feed-page-link = Страница коридора
