/* tlsrpt.core: dns functions. */
#include "binding.h"

void tl_open_dns(lua_State *L)
{
    (void)L; /* not yet: filled in by the dns work */
}
