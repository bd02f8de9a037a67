{"update":2,"result":"rejected","reason":"replayed"}
