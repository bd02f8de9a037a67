{"update":4,"result":"rejected","reason":"no_trust"}
