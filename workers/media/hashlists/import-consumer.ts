// SCAFFOLD: registers media.hashlist.import (hash lists part)
