# Writes INPUT (the status page) into OUTPUT as a C++ raw string, so the page ships inside the
# binary and stays an ordinary HTML file to edit. Run at build time by src/admin/CMakeLists.txt.
file(READ "${INPUT}" content)
string(FIND "${content}" ")FULCRUM_PAGE\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
     "// Generated from ${INPUT} by embed.cmake; do not edit.\n"
     "#include <string_view>\n"
     "namespace fulcrum::admin {\n"
     "extern const std::string_view kStatusPageHtml;\n"
     "const std::string_view kStatusPageHtml = R\"FULCRUM_PAGE(${content})FULCRUM_PAGE\";\n"
     "}  // namespace fulcrum::admin\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
