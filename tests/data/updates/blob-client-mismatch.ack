{"update":4,"result":"rejected","reason":"blob_client_mismatch"}
