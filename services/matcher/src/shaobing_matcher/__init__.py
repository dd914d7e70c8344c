"""matcher: joins person facts with enrolments and raises alerts."""
