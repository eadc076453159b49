-- Gifts the team enters by hand (a cheque, a transfer, cash): their reference (the cheque's
-- number, the transfer's label), to match them with the bank statement.
ALTER TABLE donations ADD COLUMN reference TEXT;
