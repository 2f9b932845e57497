// Preload: built from the contract in the shell issue.
export {}
