"""The arrangement data (SQLModel tables) and the pure domain rules."""
