"""Timeline merge, replay cursor (step, advance_to, seek) and pacing clock."""
