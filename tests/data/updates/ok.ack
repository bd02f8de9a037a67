{"update":4,"result":"staged","reason":""}
