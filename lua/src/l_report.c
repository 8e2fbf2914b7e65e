/* tlsrpt.core: report functions. */
#include "binding.h"

void tl_open_report(lua_State *L)
{
    (void)L; /* not yet: filled in by the report work */
}
