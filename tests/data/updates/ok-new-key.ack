{"update":7,"result":"staged","reason":""}
