"""The recognition core: upload bytes -> decoded image -> ink -> components -> each digit
as a 32x32 bitmap -> 8x8 counts -> probabilities. Pure functions; no Flask."""
