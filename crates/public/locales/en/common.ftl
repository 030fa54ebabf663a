# Strings shared by pages, feeds and SMS texts. Page-only strings live in pages.ftl, feed-only
# strings in feeds.ftl.
exercise-banner = EXERCISE — simulated clock, not a real corridor
corridors-count = { $count ->
    [one] { $count } corridor
   *[other] { $count } corridors
}
public-reason-shelling = shelling or gunfire near the route
public-reason-mines = mines near the route
public-reason-road-damage = the road is damaged or blocked
public-reason-other = other reasons
