# Runs PROGRAM and checks that its output lines, sorted, equal EXPECTED (a list of lines, in any
# order): for the chapter's programs whose tasks print concurrently, so only the set of lines is
# defined. NORMALIZE_REGEX/NORMALIZE_TO rewrite each line first (say, which worker got a message).
#   cmake -DPROGRAM=<exe> "-DEXPECTED=line 1;line 2" [-DNORMALIZE_REGEX=.. -DNORMALIZE_TO=..] -P
execute_process(COMMAND ${PROGRAM} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}\n${out}\n${err}")
endif()
string(REGEX REPLACE "\n$" "" out "${out}")
string(REPLACE ";" "\\;" out "${out}")
string(REPLACE "\n" ";" lines "${out}")
set(got "")
foreach(line IN LISTS lines)
  if(DEFINED NORMALIZE_REGEX)
    string(REGEX REPLACE "${NORMALIZE_REGEX}" "${NORMALIZE_TO}" line "${line}")
  endif()
  list(APPEND got "${line}")
endforeach()
set(want ${EXPECTED})
list(SORT got)
list(SORT want)
if(NOT "${got}" STREQUAL "${want}")
  string(REPLACE ";" "\n  " got_text "${got}")
  string(REPLACE ";" "\n  " want_text "${want}")
  message(FATAL_ERROR "${PROGRAM} printed (sorted):\n  ${got_text}\nexpected (sorted):\n  ${want_text}")
endif()
message(STATUS "output matches (${PROGRAM})")
