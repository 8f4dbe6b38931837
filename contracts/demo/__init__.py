"""Demo data of the contracts app: the book of contracts and the staff logins."""
