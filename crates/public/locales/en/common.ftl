# Strings shared by pages, feeds and SMS texts. Page-only strings live in pages.ftl, feed-only
# strings in feeds.ftl.
exercise-banner = EXERCISE — simulated clock, not a real corridor
status-open = Open now
status-upcoming = Opens at { $start }
status-suspended = Suspended
status-pending = Not confirmed: the terms are being changed
status-closed = Closed
status-cancelled = Cancelled
corridors-count = { $count ->
    [one] { $count } corridor
   *[other] { $count } corridors
}
