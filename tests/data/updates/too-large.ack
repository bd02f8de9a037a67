{"update":0,"result":"rejected","reason":"too_large"}
