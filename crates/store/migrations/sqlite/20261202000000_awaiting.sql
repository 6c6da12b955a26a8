-- The instructor's board: since when a run waits for its learner (a hands-on
-- step's commands, a guided "Run step", a knowledge check); NULL while the
-- run itself works.
ALTER TABLE runs ADD COLUMN awaiting_since TEXT;
