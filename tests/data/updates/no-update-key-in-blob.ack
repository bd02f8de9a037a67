{"update":4,"result":"rejected","reason":"no_update_key_in_blob"}
