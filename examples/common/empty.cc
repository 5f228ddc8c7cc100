// Keeps the common library non-empty before any shared example code exists.
