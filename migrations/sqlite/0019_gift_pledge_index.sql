-- A gift's page and « Mon espace » look for the gift that took a cancelled one up again
-- (through its pledge): without this index, each look read every recurring gift, a cost that
-- grew with the ledger (seen at 1M donations, BENCHMARKS.md).
CREATE INDEX recurring_gifts_pledge ON recurring_gifts (pledge_id);
