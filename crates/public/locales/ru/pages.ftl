# Страницы, карта и тексты SMS. Только слова: всё, что показано как согласованное, берётся из подписанных условий.
lang-name = Русский
switch-label = Язык
site-title = Гуманитарные коридоры
list-intro = Здесь показаны только коридоры, согласованные всеми сторонами.
list-none = Сейчас ни один коридор не согласован.
back = Все коридоры

## Даты и время
month-1 = января
month-2 = февраля
month-3 = марта
month-4 = апреля
month-5 = мая
month-6 = июня
month-7 = июля
month-8 = августа
month-9 = сентября
month-10 = октября
month-11 = ноября
month-12 = декабря
month-short-1 = янв
month-short-2 = фев
month-short-3 = мар
month-short-4 = апр
month-short-5 = мая
month-short-6 = июн
month-short-7 = июл
month-short-8 = авг
month-short-9 = сен
month-short-10 = окт
month-short-11 = ноя
month-short-12 = дек
date = { $day } { $month } { $year }
datetime = { $date }, { $time }
zone-label = { $zone }, { $offset }
zoned = { $when } ({ $label })
span-same-day = { $date }, { $from }–{ $to } ({ $label })
span = { $from } – { $to } ({ $label })
span-apart = { $from } – { $to }
zone-europe-kyiv = по киевскому времени
zone-europe-kiev = по киевскому времени
zone-europe-moscow = по московскому времени
zone-europe-simferopol = по симферопольскому времени
zone-europe-minsk = по минскому времени
zone-noun-europe-kyiv = Киевское время
zone-noun-europe-kiev = Киевское время
zone-noun-europe-moscow = Московское время
zone-noun-europe-simferopol = Симферопольское время
zone-noun-europe-minsk = Минское время

## Статус
badge-open = Открыт сейчас
badge-upcoming = Согласован, ещё не открыт
badge-suspended = Приостановлен: не пользуйтесь коридором сейчас
badge-pending = Не подтверждён: условия меняются
badge-closed = Закрыт
badge-cancelled = Отменён
page-status-open = Открыт сейчас. Закроется { $end }.
page-status-upcoming = Согласован, ещё не открыт. Откроется { $start }.
page-status-suspended = Приостановлен: не пользуйтесь коридором сейчас. Он остаётся закрытым, пока все стороны не возобновят режим тишины (согласованное окно заканчивается { $end }).
page-status-pending = Не подтверждён: условия меняются, а новые условия ещё не согласованы.
page-status-closed = Закрыт: согласованный режим тишины закончился { $end }. Не выходите на маршрут.
page-status-cancelled = Отменён: коридор не откроется. Не выходите на маршрут.
reason = Причина:
reason-by = Причина (заявление стороны «{ $party }»):

## Страница коридора
h-window = Когда
h-windows = Согласованное время коридора
th-zone = Часовой пояс
th-from = С
th-to = До
h-route = Маршрут
origin = Откуда
destination = Куда
reception = Пункт приёма
who-may-leave = Кто может выехать
purpose = Цель
purpose-evacuation = Эвакуация мирных жителей
purpose-aid = Доставка гуманитарной помощи
purpose-both = Эвакуация мирных жителей и доставка гуманитарной помощи
aid-may-enter = Можно ли ввезти гуманитарную помощь
yes = Да
no = Нет
buffer = Согласованная ширина коридора
buffer-m = { $m } м по обе стороны маршрута
h-instructions = Согласованные инструкции для мирных жителей
bring = Что взять с собой
gather = Где собираться
if-suspended = Если коридор приостановлен
no-instructions = Стороны не согласовали инструкции для мирных жителей.
h-checkpoints = Блокпосты
no-checkpoints = Блокпосты не согласованы.
h-map = Карта
map-legend = Красная линия: маршрут; стрелка: направление движения. Жёлтая полоса с коричневым краем: согласованная ширина коридора. Чёрные квадраты: блокпосты (номера как в списке). Круги: населённые пункты.
map-label = Карта маршрута { $origin } – { $destination }; согласованный коридор — { $buffer } м по обе стороны маршрута
map-km = { $n } км
map-m = { $n } м
h-other-windows = Другие согласованные окна
h-statements = Заявления одной стороны
statements-note = Каждое из этих заявлений — заявление только одной стороны. Другая сторона его не согласовывала, и это не коридор.
statement-by = Заявление стороны «{ $party }»: это не договорённость
statement-from = С { $start }
statement-from-to = С { $start } до { $end }
statement-about = Касается:
print-link = Страница для печати (A4)
print-back = Назад к странице коридора
print-scan = Актуальный статус: отсканируйте QR-код или откройте адрес:
print-note = Внимание: статус коридора мог измениться после печати этой страницы.
sms-link = Текст для SMS

## Документы
documents-title = Подписанные документы
document-binding = текст, имеющий преимущественную силу
document-translation = перевод
document-signed = Подписано от имени: { $party }, { $when }.
document-bundle = Скачать подписанный пакет (любой может проверить его офлайн командой corridor verify-document)
document-bundle-elsewhere = Подписанный пакет, который любой может проверить офлайн, доступен на сервере журнала.

## Нижний колонтитул
as-of = По состоянию на { $when }.
footer-checkpoint = Сформировано по контрольной точке журнала: размер дерева { $size }, корень { $root }.
footer-witnessed = Подписано { $count } из { $of } свидетелей ({ $by }) при размере дерева { $size }, корень { $root }: им показана та же история.
footer-not-witnessed = НЕ подписано достаточным числом свидетелей: последняя подписанная ими контрольная точка имеет размер дерева { $size } ({ $count } из { $of }: { $by }). Относитесь к этой странице с осторожностью.
link-status = Статус (JSON)
link-cap = Оповещения CAP
link-atom = Лента Atom

## SMS
sms-exercise = УЧЕНИЯ
sms-open = ОТКРЫТ
sms-upcoming = ЕЩЁ НЕ ОТКРЫТ
sms-suspended = ПРИОСТАНОВЛЕН, НЕ ВЫХОДИТЕ НА МАРШРУТ
sms-pending = НЕ ПОДТВЕРЖДЁН
sms-closed = ЗАКРЫТ
sms-cancelled = ОТМЕНЁН
sms-date = { $day } { $month }
sms-zone = { $window } { $zone } ({ $offset })
sms-zone-short = { $window } { $offset }

## Страница не найдена
not-found-title = Страница не найдена
not-found-text = По этому адресу нет страницы. Возможно, у коридора другое название или в ссылке ошибка.
not-found-link = Все коридоры
