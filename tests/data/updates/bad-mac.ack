{"update":4,"result":"rejected","reason":"bad_mac"}
