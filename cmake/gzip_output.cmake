# cmake -DCOMMAND=<list> -DOUTPUT=<file.gz> -DGZIP=<gzip> [-DPATH_PREFIX=<dir>] -P gzip_output.cmake:
# runs COMMAND and writes its standard output to OUTPUT, compressed with gzip -9n (no name or
# time stamp inside, so that the same input gives the same file, as Debian wants). PATH_PREFIX
# goes first on PATH, so that a program given by name there sees its bare name as argv[0] (what
# its --help prints as its usage line). For packaging (FulcrumPackaging.cmake).
foreach(var COMMAND OUTPUT GZIP)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "gzip_output.cmake: ${var} not set")
  endif()
endforeach()

if(PATH_PREFIX)
  set(ENV{PATH} "${PATH_PREFIX}:$ENV{PATH}")
endif()
list(GET COMMAND 0 program)
if(program MATCHES "-NOTFOUND$")
  message(FATAL_ERROR "${program}: not installed (scripts/install-deps.sh installs it)")
endif()
execute_process(COMMAND ${COMMAND} OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE code
                ERROR_VARIABLE errors)
if(NOT code EQUAL 0)
  list(JOIN COMMAND " " command)
  message(FATAL_ERROR "failed (${code}): ${command}\n${errors}")
endif()
execute_process(COMMAND ${GZIP} -9nc ${OUTPUT}.tmp OUTPUT_FILE ${OUTPUT} RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "gzip failed (${code}) on ${OUTPUT}.tmp")
endif()
file(REMOVE ${OUTPUT}.tmp)
