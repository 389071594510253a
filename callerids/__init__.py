"""外显号码池 (issue 17): the numbers the dialer shows as caller ID, their daily caps, rotation and health."""
