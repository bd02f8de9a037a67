{"update":4,"result":"rejected","reason":"wrong_client"}
