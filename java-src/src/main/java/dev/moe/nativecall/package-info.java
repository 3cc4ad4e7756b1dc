/**
 * The plumbing between the library and its C ABI ({@code moe.h}): the structs it passes, written field
 * by field, and the one mapping of status codes to exceptions. Internal: not exported by the module; the
 * library's public types are the way in.
 */
package dev.moe.nativecall;
