{"update":4,"result":"rejected","reason":"bad_blob:bad_crc"}
