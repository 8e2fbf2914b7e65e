-- tlsrpt.cli.exit: the exit statuses of the `tlsrpt` command.
return {
  OK = 0,       -- all good
  PROBLEM = 1,  -- a problem was found (invalid input, failed check)
  USAGE = 2,    -- usage error
  INTERNAL = 3, -- internal error
}
