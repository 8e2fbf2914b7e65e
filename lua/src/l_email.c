/* tlsrpt.core: email functions. */
#include "binding.h"

void tl_open_email(lua_State *L)
{
    (void)L; /* not yet: filled in by the email work */
}
