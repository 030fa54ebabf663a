# Pages, map and SMS texts. Words only: everything shown as agreed comes from the signed terms.
lang-name = English
switch-label = Language
site-title = Humanitarian corridors
list-intro = Only corridors agreed by every party are listed.
list-none = No corridor is agreed at the moment.
back = All corridors

## Dates and times
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
month-short-1 = Jan
month-short-2 = Feb
month-short-3 = Mar
month-short-4 = Apr
month-short-5 = May
month-short-6 = Jun
month-short-7 = Jul
month-short-8 = Aug
month-short-9 = Sep
month-short-10 = Oct
month-short-11 = Nov
month-short-12 = Dec
date = { $day } { $month } { $year }
datetime = { $date }, { $time }
zone-label = { $zone }, { $offset }
zoned = { $when } ({ $label })
span-same-day = { $date }, { $from }–{ $to } ({ $label })
span = { $from } – { $to } ({ $label })
span-apart = { $from } – { $to }
zone-europe-kyiv = Kyiv time
zone-europe-kiev = Kyiv time
zone-europe-moscow = Moscow time
zone-europe-simferopol = Simferopol time
zone-europe-minsk = Minsk time
zone-noun-europe-kyiv = Kyiv time
zone-noun-europe-kiev = Kyiv time
zone-noun-europe-moscow = Moscow time
zone-noun-europe-simferopol = Simferopol time
zone-noun-europe-minsk = Minsk time

## Status
badge-open = Open now
badge-upcoming = Agreed, not open yet
badge-suspended = Suspended: do not use the corridor now
badge-pending = Not confirmed: the terms are being changed
badge-closed = Closed
badge-cancelled = Cancelled
page-status-open = Open now. Closes at { $end }.
page-status-upcoming = Agreed, not open yet. Opens at { $start }.
page-status-suspended = Suspended: do not use the corridor now. It stays closed until every party resumes the ceasefire (the agreed window ends at { $end }).
page-status-pending = Not confirmed: the terms are being changed and the new terms are not agreed yet.
page-status-closed = Closed: the agreed ceasefire ended at { $end }. Do not set out on the route.
page-status-cancelled = Cancelled: the corridor will not open. Do not set out on the route.
reason = Reason given:
reason-by = Reason given by { $party }:

## Corridor page
h-window = When
h-windows = Agreed windows
th-zone = Time zone
th-from = From
th-to = Until
h-route = Route
origin = From
destination = To
reception = Reception point
who-may-leave = Who may leave
purpose = Purpose
purpose-evacuation = Evacuation of civilians
purpose-aid = Delivery of humanitarian aid
purpose-both = Evacuation of civilians and delivery of humanitarian aid
aid-may-enter = May aid be brought in?
yes = Yes
no = No
buffer = Agreed corridor width
buffer-m = { $m } m either side of the route
h-instructions = Agreed instructions for civilians
bring = What to bring
gather = Where to gather
if-suspended = If the corridor is suspended
no-instructions = The parties have not agreed instructions for civilians.
h-checkpoints = Checkpoints
no-checkpoints = No checkpoints were agreed.
h-map = Map
map-legend = Red line: the route; arrow: the direction of travel. Yellow band with a brown edge: the agreed corridor width along it. Black squares: checkpoints (numbered as in the list). Circles: settlements.
map-label = Map of the route { $origin } – { $destination }; the agreed corridor is { $buffer } m either side of it
map-km = { $n } km
map-m = { $n } m
h-other-windows = Other agreed windows
h-statements = Statements by one party
statements-note = Each of these is one party's own statement. It was not agreed by the other party and is not a corridor.
statement-by = Statement by { $party }: not an agreement
statement-from = From { $start }
statement-from-to = From { $start } until { $end }
statement-about = About:
print-link = Printable page (A4)
print-back = Back to the corridor page
print-scan = Current status: scan the code or open
print-note = Printed information: the status may have changed since this page was printed.
sms-link = Text for SMS

## Documents
documents-title = Signed documents
document-binding = binding text
document-translation = translation
document-signed = Signed for { $party }, { $when }.
document-bundle = Download the signed bundle (anyone can check it offline with corridor verify-document)
document-bundle-elsewhere = The signed bundle, which anyone can check offline, is available from the log server.

## Footer
as-of = As of { $when }.
footer-checkpoint = Built from the log checkpoint with tree size { $size } and root { $root }.
footer-witnessed = Co-signed by { $count } of { $of } witnesses ({ $by }) at tree size { $size }, root { $root }: they were shown this same history.
footer-not-witnessed = NOT co-signed by enough witnesses: the latest checkpoint they co-signed is at tree size { $size } ({ $count } of { $of }: { $by }). Treat this page with caution.
link-status = Status (JSON)
link-cap = CAP alerts
link-atom = Atom feed

## SMS
sms-exercise = EXERCISE
sms-open = OPEN NOW
sms-upcoming = NOT OPEN YET
sms-suspended = SUSPENDED, DO NOT SET OUT
sms-pending = NOT CONFIRMED
sms-closed = CLOSED
sms-cancelled = CANCELLED
sms-date = { $day } { $month }
sms-zone = { $window } { $zone } ({ $offset })
sms-zone-short = { $window } { $offset }

## Not found
not-found-title = Page not found
not-found-text = There is no page at this address. The corridor may have a different name, or the link may be mistyped.
not-found-link = See all corridors
