{"update":0,"result":"rejected","reason":"bad_format"}
