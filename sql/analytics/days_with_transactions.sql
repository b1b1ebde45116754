SELECT DISTINCT transaction_date FROM transactions ORDER BY 1;
