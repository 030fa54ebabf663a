# Feed-only strings: CAP alerts, the Atom feed. Signed text (names, instructions, reasons) is
# passed in as arguments, never translated here.
feed-event = Humanitarian corridor
feed-exercise-headline = EXERCISE: { $headline }
feed-exercise-note = Exercise: simulated clock, not a real corridor. Do not act on this message.
feed-a-party = a party

## Headlines ($corridor, $start and $end in the origin's local time)
feed-headline-agreed = Corridor { $corridor } agreed: opens { $start }
feed-headline-new-terms = Corridor { $corridor }: new times agreed, opens { $start }
feed-headline-amending = Corridor { $corridor }, { $span }: terms being changed, do not rely on it
feed-headline-opened = Corridor { $corridor } is open until { $end }
feed-headline-resumed = Corridor { $corridor } is open again until { $end }
feed-headline-suspended = Corridor { $corridor }, { $span }: suspended, do not use it now
feed-headline-closed = Corridor { $corridor }, { $span }: closed, the ceasefire has ended
feed-headline-withdrawn = Corridor { $corridor }, { $span }: opening cancelled
feed-headline-cancelled = Corridor { $corridor }, { $span }: opening cancelled
feed-headline-expired = Corridor { $corridor }, { $span }: opening cancelled, new terms not agreed

## Status sentences ($party: the party that acted)
feed-status-agreed = All parties agreed the corridor's times and terms. It is not open yet.
feed-status-new-terms = All parties agreed amended terms. The corridor is not open yet.
feed-status-amending = The parties are changing the agreed terms and the new terms are not agreed yet: do not rely on these times.
feed-status-opened = The corridor is open: the ceasefire agreed by all parties is in force.
feed-status-resumed = The corridor is open again: every party has resumed the ceasefire.
feed-status-suspended = The corridor is suspended following a statement by { $party }. It stays closed until every party resumes the ceasefire.
feed-status-closed = The agreed time has ended; the corridor is closed and its ceasefire is over.
feed-status-withdrawn = Opening cancelled: a party withdrew its consent before the start ({ $party }).
feed-status-cancelled = Cancelled by the party that proposed it.
feed-status-expired = Opening cancelled: the new terms were not agreed before the start.

feed-window = Agreed time: { $times }.
feed-reason = Stated reason: { $reason }
feed-bring = What to bring: { $text }
feed-gather = Where to gather: { $text }
feed-if-suspended = If the corridor is suspended: { $text }
feed-area = { $corridor }: the route and { $buffer } m either side
feed-atom-title = Humanitarian corridors: alerts
feed-page-link = Corridor page

## What to do now: the first words of the instruction when the answer is "do not go"
feed-do-suspended = Do not use the corridor now: do not set out on the route.
feed-do-cancelled = The corridor will not open at the announced time: do not set out on the route.
feed-do-closed = The agreed ceasefire on this route has ended: do not set out on the route.
feed-do-pending = Do not rely on the announced times until new terms are agreed.
