/* tlsrpt.core: records functions. */
#include "binding.h"

void tl_open_records(lua_State *L)
{
    (void)L; /* not yet: filled in by the records work */
}
