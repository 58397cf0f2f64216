"""A compound's plan: where its structures stand, drawn on the server as SVG from the positions
the officers' phones gave, with no map tiles from anywhere else."""
