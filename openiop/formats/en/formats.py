# "6:30 PM" rather than Django's "6:30 p.m.", which reads oddly before a full stop.
TIME_FORMAT = "g:i A"
