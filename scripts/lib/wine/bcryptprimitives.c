/* Wine 8 has no bcryptprimitives.dll, from which Rust's std (1.78 and newer) imports ProcessPrng
 * for its random numbers. This stand-in, loaded by the Windows test binaries under Wine only
 * (scripts/lib/windows.sh), gives it from RtlGenRandom (advapi32's SystemFunction036).
 * Never shipped: real Windows has the real DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
