import sys
def main(argv=None):
    print("cli", argv or sys.argv[1:])
