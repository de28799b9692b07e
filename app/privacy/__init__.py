"""People's data rights and retention: find everything held about one email address, give it
to them (a subject access request), correct it, erase what the law lets us erase, and remove
donors' contact details once nothing requires keeping them.

What is erased and what is kept, and why, is said once, in `rules.py`: the erase screen, the
privacy notice and the code all read it from there."""
