-- +goose Up
-- link_mailed: the invitation's link went only to the invitee's mailbox, so
-- accepting it proves the invitee reads that address. A link shown to the
-- inviter to pass on proves nothing, and then the account's email stays
-- unverified (ID tokens and userinfo say email_verified: false).
ALTER TABLE invitations ADD COLUMN link_mailed INTEGER NOT NULL DEFAULT 0;

-- Until now every account created from an invitation was marked verified,
-- and nobody recorded how its link travelled: take that back, except where
-- an identity provider has since vouched for the address (a linked
-- identity; the next federated sign-in sets it again from the upstream's
-- email_verified anyway).
UPDATE users SET email_verified = 0
WHERE id IN (SELECT accepted_by FROM invitations WHERE accepted_at IS NOT NULL)
  AND id NOT IN (SELECT user_id FROM identities);
