"""`make bench`: the figures the issues set goals for, measured in one run, as ratios."""
