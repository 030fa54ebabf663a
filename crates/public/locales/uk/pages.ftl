# Сторінки, мапа й тексти SMS. Лише слова: усе, що показано як погоджене, береться з підписаних умов.
lang-name = Українська
switch-label = Мова
site-title = Гуманітарні коридори
list-intro = Тут показано лише коридори, погоджені всіма сторонами.
list-none = Наразі жоден коридор не погоджено.
back = Усі коридори

## Дати й час
month-1 = січня
month-2 = лютого
month-3 = березня
month-4 = квітня
month-5 = травня
month-6 = червня
month-7 = липня
month-8 = серпня
month-9 = вересня
month-10 = жовтня
month-11 = листопада
month-12 = грудня
month-short-1 = січ
month-short-2 = лют
month-short-3 = бер
month-short-4 = квіт
month-short-5 = трав
month-short-6 = черв
month-short-7 = лип
month-short-8 = серп
month-short-9 = вер
month-short-10 = жовт
month-short-11 = лист
month-short-12 = груд
date = { $day } { $month } { $year }
datetime = { $date }, { $time }
zone-label = { $zone }, { $offset }
zoned = { $when } ({ $label })
span-same-day = { $date }, { $from }–{ $to } ({ $label })
span = { $from } – { $to } ({ $label })
span-apart = { $from } – { $to }
zone-europe-kyiv = за київським часом
zone-europe-kiev = за київським часом
zone-europe-moscow = за московським часом
zone-europe-simferopol = за сімферопольським часом
zone-europe-minsk = за мінським часом
zone-noun-europe-kyiv = Київський час
zone-noun-europe-kiev = Київський час
zone-noun-europe-moscow = Московський час
zone-noun-europe-simferopol = Сімферопольський час
zone-noun-europe-minsk = Мінський час

## Стан
badge-open = Відкрито зараз
badge-upcoming = Погоджено, ще не відкрито
badge-suspended = Призупинено: не користуйтеся коридором зараз
badge-pending = Не підтверджено: умови змінюються
badge-closed = Закрито
badge-cancelled = Скасовано
page-status-open = Відкрито зараз. Закриється { $end }.
page-status-upcoming = Погоджено, ще не відкрито. Відкриється { $start }.
page-status-suspended = Призупинено: не користуйтеся коридором зараз. Він залишається закритим, доки всі сторони не відновлять режим тиші (погоджене вікно закінчується { $end }).
page-status-pending = Не підтверджено: умови змінюються, а нові умови ще не погоджено.
page-status-closed = Закрито: погоджений режим тиші закінчився { $end }. Не виходьте на маршрут.
page-status-cancelled = Скасовано: коридор не відкриється. Не виходьте на маршрут.
reason = Причина:
reason-by = Причина (заява сторони «{ $party }»):

## Сторінка коридору
h-window = Коли
h-windows = Погоджений час коридору
th-zone = Часовий пояс
th-from = Від
th-to = До
h-route = Маршрут
origin = Звідки
destination = Куди
reception = Пункт прийому
who-may-leave = Хто може виїхати
purpose = Мета
purpose-evacuation = Евакуація цивільних
purpose-aid = Доставлення гуманітарної допомоги
purpose-both = Евакуація цивільних і доставлення гуманітарної допомоги
aid-may-enter = Чи можна завезти гуманітарну допомогу
yes = Так
no = Ні
buffer = Погоджена ширина коридору
buffer-m = { $m } м обабіч маршруту
h-instructions = Погоджені інструкції для цивільних
bring = Що взяти з собою
gather = Де збиратися
if-suspended = Якщо коридор призупинено
no-instructions = Сторони не погодили інструкцій для цивільних.
h-checkpoints = Блокпости
no-checkpoints = Блокпостів не погоджено.
h-map = Мапа
map-legend = Червона лінія: маршрут; стрілка: напрямок руху. Жовта смуга з коричневим краєм: погоджена ширина коридору. Чорні квадрати: блокпости (номери як у списку). Кола: населені пункти.
map-label = Мапа маршруту { $origin } – { $destination }; погоджений коридор — { $buffer } м обабіч маршруту
map-km = { $n } км
map-m = { $n } м
h-other-windows = Інші погоджені вікна
h-statements = Заяви однієї сторони
statements-note = Кожна з цих заяв — заява лише однієї сторони. Інша сторона її не погоджувала, і це не коридор.
statement-by = Заява сторони «{ $party }»: це не домовленість
statement-from = Від { $start }
statement-from-to = Від { $start } до { $end }
statement-about = Стосується:
print-link = Сторінка для друку (A4)
print-back = Назад до сторінки коридору
print-scan = Актуальний стан: зіскануйте QR-код або відкрийте адресу:
print-note = Увага: стан коридору міг змінитися після друку цієї сторінки.
sms-link = Текст для SMS

## Документи
documents-title = Підписані документи
document-binding = текст, що має переважну силу
document-translation = переклад
document-signed = Підписано від імені: { $party }, { $when }.
document-bundle = Завантажити підписаний пакет (будь-хто може перевірити його офлайн командою corridor verify-document)
document-bundle-elsewhere = Підписаний пакет, який будь-хто може перевірити офлайн, доступний на сервері журналу.

## Нижній колонтитул
as-of = Станом на { $when }.
footer-checkpoint = Побудовано з контрольної точки журналу: розмір дерева { $size }, корінь { $root }.
footer-witnessed = Співпідписано { $count } з { $of } свідків ({ $by }) при розмірі дерева { $size }, корінь { $root }: їм показано ту саму історію.
footer-not-witnessed = НЕ співпідписано достатньою кількістю свідків: остання співпідписана контрольна точка має розмір дерева { $size } ({ $count } з { $of }: { $by }). Ставтеся до цієї сторінки обережно.
link-status = Стан (JSON)
link-cap = Сповіщення CAP
link-atom = Стрічка Atom

## SMS
sms-exercise = НАВЧАННЯ
sms-open = ВІДКРИТО
sms-upcoming = ЩЕ НЕ ВІДКРИТО
sms-suspended = ПРИЗУПИНЕНО, НЕ ВИХОДЬТЕ НА МАРШРУТ
sms-pending = НЕ ПІДТВЕРДЖЕНО
sms-closed = ЗАКРИТО
sms-cancelled = СКАСОВАНО
sms-date = { $day } { $month }
sms-zone = { $window } { $zone } ({ $offset })
sms-zone-short = { $window } { $offset }

## Сторінку не знайдено
not-found-title = Сторінку не знайдено
not-found-text = За цією адресою немає сторінки. Можливо, коридор має іншу назву або в посиланні помилка.
not-found-link = Усі коридори
