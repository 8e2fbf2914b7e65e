/* tlsrpt.core: build functions. */
#include "binding.h"

void tl_open_build(lua_State *L)
{
    (void)L; /* not yet: filled in by the build work */
}
