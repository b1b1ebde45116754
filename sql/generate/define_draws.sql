-- DuckDB. `unit_draw(scope, purpose, n)`: a number in [0, 1) that depends only on its three
-- arguments, so a generated row never depends on thread scheduling, row order or what else is
-- generated alongside it (unlike random()). hash() of several values combines them weakly (the
-- draws of two purposes for the same n correlate), so the scope and purpose become a salt that
-- is mixed into n before one full hash; the top 53 bits make a double strictly below 1.
CREATE OR REPLACE TEMP MACRO unit_draw(scope, purpose, n) AS
    CAST(hash(xor(hash(scope, purpose), CAST(n AS UBIGINT))) >> 11 AS DOUBLE)
        / 9007199254740992.0;
