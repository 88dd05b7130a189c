"""Story stream: dialogue sentences, symbol mentions, plot events, themes, and the alignment that gives
each symbol occurrence its narrative role."""
