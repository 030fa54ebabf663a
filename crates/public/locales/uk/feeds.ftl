# Рядки лише для стрічок: сповіщення CAP, стрічка Atom. Підписаний текст (назви, інструкції,
# причини) передається як аргументи й тут не перекладається.
feed-event = Гуманітарний коридор
feed-exercise-headline = НАВЧАННЯ: { $headline }
feed-exercise-note = Навчання: змодельований час, це не справжній коридор. Не дійте за цим повідомленням.
feed-a-party = одна зі сторін

## Заголовки ($corridor; $start і $end — за місцевим часом пункту відправлення)
feed-headline-agreed = Коридор { $corridor } погоджено: відкриється { $start }
feed-headline-new-terms = Коридор { $corridor }: погоджено новий час, відкриється { $start }
feed-headline-amending = Коридор { $corridor }: умови змінюються, не покладайтеся на нього
feed-headline-opened = Коридор { $corridor } відкрито до { $end }
feed-headline-resumed = Коридор { $corridor } знову відкрито до { $end }
feed-headline-suspended = Коридор { $corridor } призупинено
feed-headline-closed = Коридор { $corridor } закрито
feed-headline-withdrawn = Коридор { $corridor }: відкриття скасовано
feed-headline-cancelled = Коридор { $corridor }: відкриття скасовано
feed-headline-expired = Коридор { $corridor }: відкриття скасовано, нові умови не погоджено

## Речення про стан ($party — сторона, що діяла)
feed-status-agreed = Усі сторони погодили час і умови коридору. Він ще не відкритий.
feed-status-new-terms = Усі сторони погодили змінені умови. Коридор ще не відкритий.
feed-status-amending = Сторони змінюють погоджені умови, а нові ще не погоджено: не покладайтеся на цей час.
feed-status-opened = Коридор відкрито: діє режим тиші, погоджений усіма сторонами.
feed-status-resumed = Коридор знову відкрито: усі сторони відновили режим тиші.
feed-status-suspended = Коридор призупинено за заявою сторони: { $party }. Він залишається закритим, доки всі сторони не відновлять режим тиші.
feed-status-closed = Погоджений час минув, коридор закрито.
feed-status-withdrawn = Відкриття скасовано: сторона відкликала згоду до початку ({ $party }).
feed-status-cancelled = Відкриття скасовано тим, хто його запропонував.
feed-status-expired = Відкриття скасовано: нові умови не погоджено до початку.

feed-window = Погоджений час: { $times }.
feed-reason = Зазначена причина: { $reason }
feed-bring = Що взяти з собою: { $text }
feed-gather = Де збиратися: { $text }
feed-if-suspended = Якщо коридор призупинено: { $text }
feed-area = { $corridor }: маршрут і { $buffer } м обабіч нього
feed-atom-title = Гуманітарні коридори: сповіщення
feed-page-link = Сторінка коридору
