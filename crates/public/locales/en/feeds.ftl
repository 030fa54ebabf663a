# Feed-only strings: CAP alerts, the Atom feed. Signed text (names, instructions, reasons) is
# passed in as arguments, never translated here.
feed-event = Humanitarian corridor
feed-exercise-headline = EXERCISE: { $headline }
feed-exercise-note = Exercise: simulated clock, not a real corridor. Do not act on this message.
feed-a-party = a party

## Headlines ($corridor, $start and $end in the origin's local time)
feed-headline-agreed = Corridor { $corridor } agreed: opens { $start }
feed-headline-new-terms = Corridor { $corridor }: new times agreed, opens { $start }
feed-headline-amending = Corridor { $corridor }: terms being changed, do not rely on it
feed-headline-opened = Corridor { $corridor } is open until { $end }
feed-headline-resumed = Corridor { $corridor } is open again until { $end }
feed-headline-suspended = Corridor { $corridor } is suspended
feed-headline-closed = Corridor { $corridor } is closed
feed-headline-withdrawn = Corridor { $corridor }: opening cancelled
feed-headline-cancelled = Corridor { $corridor }: opening cancelled
feed-headline-expired = Corridor { $corridor }: opening cancelled, new terms not agreed

## Status sentences ($party: the party that acted)
feed-status-agreed = All parties agreed the corridor's times and terms. It is not open yet.
feed-status-new-terms = All parties agreed amended terms. The corridor is not open yet.
feed-status-amending = The parties are changing the agreed terms and the new terms are not agreed yet: do not rely on these times.
feed-status-opened = The corridor is open: the ceasefire agreed by all parties is in force.
feed-status-resumed = The corridor is open again: every party has resumed the ceasefire.
feed-status-suspended = The corridor is suspended at the statement of a party: { $party }. It stays closed until every party resumes the ceasefire.
feed-status-closed = The agreed time has ended; the corridor is closed.
feed-status-withdrawn = Opening cancelled: a party withdrew its consent before the start ({ $party }).
feed-status-cancelled = Opening cancelled by whoever proposed it.
feed-status-expired = Opening cancelled: the new terms were not agreed before the start.

feed-window = Agreed time: { $times }.
feed-reason = Stated reason: { $reason }
feed-bring = What to bring: { $text }
feed-gather = Where to gather: { $text }
feed-if-suspended = If the corridor is suspended: { $text }
feed-area = { $corridor }: the route and { $buffer } m either side
feed-atom-title = Humanitarian corridors: alerts
feed-page-link = Corridor page
